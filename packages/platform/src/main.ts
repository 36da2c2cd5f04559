/** Composition root of the all-in-one runner (`npm start`): every service in one process. */
import { runStart } from './commands.js';

await runStart(process.env);
