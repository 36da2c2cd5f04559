export * from './normalize.js';
export * from './webhook-signature.js';
export * from './platforms.js';
