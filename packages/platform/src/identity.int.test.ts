import { startTestPlatform } from './e2e-scenarios.js';
import { onPlatform, runIdentityScenarios } from './identity-scenarios.js';

runIdentityScenarios(
  'embedded bus, chDB',
  onPlatform(() => startTestPlatform()),
);
