import { cachetteVitestConfig } from '@cachette/tooling-config/vitest';

export default cachetteVitestConfig();
