import { runIngestScenarios, startTestPlatform } from './e2e-scenarios.js';

runIngestScenarios('embedded bus, chDB', () => startTestPlatform());
