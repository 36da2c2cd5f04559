// `node --conditions=source --import <this file> script.mjs`: see ts-hooks.mjs.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
