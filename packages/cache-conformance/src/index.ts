import { registerBadInputTests } from './suites/bad-input';
import { registerBasicTests } from './suites/basic';
import { registerConcurrencyTests } from './suites/concurrency';
import { registerCounterTests } from './suites/counters';
import { registerCullingTests } from './suites/culling';
import { registerGetOrSetTests } from './suites/get-or-set';
import { registerKeyFunctionTests } from './suites/key-function';
import { registerKeyValidationTests } from './suites/key-validation';
import { registerLifecycleTests } from './suites/lifecycle';
import { registerMultiKeyTests } from './suites/multi-key';
import { registerStampedeTests } from './suites/stampede';
import { registerTimeoutTests } from './suites/timeouts';
import { registerTtlTests } from './suites/ttl';
import { registerValueTests } from './suites/values';
import { registerVersioningTests } from './suites/versioning';
import type { ConformanceTarget, TestApi } from './test-api';

export { DEFAULT_CAPABILITIES, resolveCapabilities, type Capabilities, type ValueDomain } from './capabilities';
export type { Assertion, ConformanceTarget, HookBody, TestApi, TestBody, TestFunction } from './test-api';
export { customKeyFunction } from './suite-context';
export {
  registerBadInputTests,
  registerBasicTests,
  registerConcurrencyTests,
  registerCounterTests,
  registerCullingTests,
  registerGetOrSetTests,
  registerKeyFunctionTests,
  registerKeyValidationTests,
  registerLifecycleTests,
  registerMultiKeyTests,
  registerStampedeTests,
  registerTimeoutTests,
  registerTtlTests,
  registerValueTests,
  registerVersioningTests,
};
export { registerDummyConformance } from './suites/dummy';
export { assertExpect, nodeTestApi } from './node-test-api';
export { ERRORS_TABLE_ENV, observeCells } from './suites/bad-input';
export { badInputCells } from './bad-input/cells';
export type { Observation } from './bad-input/outcome';
export { parseErrorsTable, renderErrorsTable, type RecordedObservation } from './bad-input/errors-table';

const TOPICS = [
  registerBasicTests,
  registerValueTests,
  registerCounterTests,
  registerMultiKeyTests,
  registerLifecycleTests,
  registerTimeoutTests,
  registerTtlTests,
  registerVersioningTests,
  registerKeyFunctionTests,
  registerKeyValidationTests,
  registerGetOrSetTests,
  registerCullingTests,
  registerConcurrencyTests,
  registerStampedeTests,
  registerBadInputTests,
];

/** Registers every topic for a backend that stores values; capabilities it lacks skip with a reason. */
export function registerConformanceSuite(api: TestApi, target: ConformanceTarget): void {
  for (const registerTopicTests of TOPICS) registerTopicTests(api, target);
}
