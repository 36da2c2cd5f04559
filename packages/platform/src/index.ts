export {
  startPlatform,
  loadRunnerConfig,
  runnerConfigSchema,
  type RunnerConfig,
  type RunningPlatform,
} from './platform.js';
export { runMigrate, runStart } from './commands.js';
export { firstStartBanner } from './banner.js';
