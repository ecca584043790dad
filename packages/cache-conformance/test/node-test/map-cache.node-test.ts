/** Run by node-test-api.test.ts with `node --test`: the suite under node:test through nodeTestApi. */
import * as nodeTest from 'node:test';
import { nodeTestApi, registerBasicTests, registerCounterTests, registerKeyValidationTests, registerValueTests } from '../../src/index';
import { BrokenCopiesCache } from '../broken-backends';
import { MapCache } from '../map-cache';

const api = nodeTestApi(nodeTest);
const broken = process.env.CONFORMANCE_BROKEN_BACKEND === '1';
const target = {
  name: broken ? 'map cache without copies' : 'map cache',
  createCache: (params: object) => (broken ? new BrokenCopiesCache({ ...params, location: 'node-test' }) : new MapCache({ ...params, location: 'node-test' })),
};

registerBasicTests(api, target);
registerValueTests(api, target);
registerCounterTests(api, target);
registerKeyValidationTests(api, target);
