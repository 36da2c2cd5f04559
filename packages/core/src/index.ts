export * from './errors.js';
export * from './topics.js';
export * from './logger.js';
export * from './config.js';
export * from './platform-config.js';
export * from './dead-letter.js';
export { startOpsServer, type OpsServerOptions } from './ops-server.js';
export * from './derived-events.js';
export { postRemoteRun } from './remote-run.js';
