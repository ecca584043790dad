import { LocMemCache } from '@cachette/cache-locmem';
import { startExpress, startFastify, startHono, startNode } from './adapters/apps';
import { describeAdapter } from './adapters/scenarios';

let stores = 0;
const locmem = () => new LocMemCache({ location: `adapters-${++stores}`, options: { maxEntries: 1000 } });

describeAdapter('node:http', startNode, locmem);
describeAdapter('Express 5', startExpress, locmem);
describeAdapter('Fastify 5', startFastify, locmem);
describeAdapter('Hono 4', startHono, locmem);
