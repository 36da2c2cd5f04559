import { startTestPlatform } from './e2e-scenarios.js';
import { runIdentityScenarios } from './identity-scenarios.js';

runIdentityScenarios('embedded bus, chDB', () => startTestPlatform());
