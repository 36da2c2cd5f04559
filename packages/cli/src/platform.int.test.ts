import { tempDir } from '@cdp/testkit';
import { runIngestScenarios } from './e2e-scenarios.js';
import { loadRunnerConfig, startPlatform } from './platform.js';

runIngestScenarios('embedded bus, chDB', async () => {
  const dir = await tempDir('cdp-e2e');
  const platform = await startPlatform(
    loadRunnerConfig({
      CDP_DATA_DIR: dir.path,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CDP_LOADER_FLUSH_MS: '250',
    }),
  );
  return {
    platform,
    cleanup: async () => {
      await platform.close();
      await dir.remove();
    },
  };
});
