export * from './loader.js';
export * from './rows.js';
export * from './batcher.js';
export * from './config.js';
