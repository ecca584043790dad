export { BaseCache, MISSING, foundInOrder, incrementedValue, type Awaitable, type CacheParams, type CachePrimitives, type Missing } from './base-cache';
export type { ChangeTracking } from './change-tracking';
export { serverStoreStats, type StoreStats } from './store-stats';
export { DummyCache } from './dummy-cache';
export { MadeKeyMemo, type RememberedKey } from './made-key-memo';
export {
  CacheConnectionError,
  CacheError,
  CacheKeyWarning,
  CacheProtocolError,
  CacheTimeoutError,
  DisallowedHost,
  InvalidCacheBackendError,
  InvalidCacheKey,
  KeyNotFoundError,
  NonNumericValueError,
  NotSupportedError,
  SerializationError,
  TemplateSyntaxError,
  UnknownCacheOptionError,
  ValueTooLargeError,
} from './errors';
export { checkUrlParameters, declareOptions, type KnownOptions, type OptionDeclaration, type OptionSource } from './known-names';
export {
  MEMCACHE_MAX_KEY_LENGTH,
  defaultKeyFunction,
  emitCacheKeyWarning,
  memcacheKeyWarnings,
  resetCacheKeyWarnings,
  type KeyFunction,
} from './keys';
export { DEFAULT_TIMEOUT_SECONDS, checkTimeout, nowInSeconds, secondsUntil, type Timeout } from './timeouts';
export { CULLING_OPTIONS, DEFAULT_CULL_FREQUENCY, DEFAULT_MAX_ENTRIES, cullCount, readCullingOptions, type CullingOptions } from './culling';
export {
  dumpPickle,
  decodeDecimalInteger,
  deserializeRange,
  isDecimalInteger,
  jsonSerializer,
  loadPickle,
  pickleSerializer,
  resolveSerializer,
  v8Serializer,
  type PickleProtocol,
  type Serializer,
  type SerializerOption,
} from './serializers/index';
export { importBackend, loadBackend, type BackendReference, type CacheBackendClass } from './backend-loader';
export {
  CacheHandler,
  DEFAULT_CACHE_ALIAS,
  cache,
  caches,
  closeCaches,
  configureCaches,
  createCache,
  resolveCacheSetting,
  type CacheConfig,
  type ResolvedCacheSetting,
  type CacheSetting,
  type RegistryOptions,
} from './registry';
export {
  backendForScheme,
  commonParamsFromUrl,
  decodeUrlComponent,
  parseCacheUrl,
  redactUrlPassword,
  registerCacheScheme,
  type ParsedCacheUrl,
} from './urls';
export { makeTemplateFragmentKey } from './fragment-key';
export { pyRepr, pyStr } from './python-text';
export { ringPointIndex } from './hash-ring';
export {
  keyWarningChannel,
  operationChannel,
  publishSwallowedError,
  swallowedErrorChannel,
  type KeyWarningMessage,
  type OperationContext,
  type OperationName,
  type SwallowReason,
  type SwallowedErrorMessage,
} from './observe/channels';
export { OutageReporter } from './observe/outages';
export { debugEnabled, debugLogger, type DebugLogger } from './observe/debug';
export type { CacheStatsSnapshot, OperationStats } from './observe/stats';
export { isStaleEnvelope, unwrapStale, type StaleEnvelope } from './stampede/stale-while-revalidate';
export type { GetOrSetOptions, LockOptions } from './stampede/options';
