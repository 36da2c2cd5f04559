export {
  startPlatform,
  loadRunnerConfig,
  runnerConfigSchema,
  type RunnerConfig,
  type RunningPlatform,
} from './platform.js';
export { firstStartBanner } from './banner.js';
