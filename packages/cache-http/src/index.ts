export { httpDate, parseHttpDate } from './http-date';
export {
  DEFAULT_PAGE_SECONDS,
  addNeverCacheHeaders,
  getMaxAge,
  hasCacheControlDirective,
  hasVaryHeader,
  maxAgeOf,
  patchCacheControl,
  patchResponseHeaders,
  patchVaryHeaders,
  splitHeaderList,
  splitVary,
  type CacheControlDirectives,
  type DirectiveValue,
  type HeaderStore,
  type ResponseLike,
} from './headers';
export {
  absoluteUri,
  hostDomain,
  isAllowedHost,
  joinedHeaderLines,
  rawRequestOf,
  rememberRawRequest,
  requestHost,
  type RawRequest,
  type RequestLike,
  type RequestUriOptions,
} from './request-uri';
export {
  PageKeys,
  getCacheKey,
  headerListOfVary,
  learnCacheKey,
  resolveCache,
  varyHeaderList,
  type CacheChoice,
  type CacheKeyOptions,
} from './cache-keys';
export {
  NOT_MODIFIED_HEADERS,
  evaluatePreconditions,
  getConditionalResponse,
  parseEtags,
  quoteEtag,
  type ConditionalResponseOptions,
  type PreconditionOutcome,
} from './conditional';
export {
  cacheControl,
  condition,
  etag,
  lastModified,
  neverCache,
  patchResponse,
  varyOnCookie,
  varyOnHeaders,
  type ConditionOptions,
  type Handler,
  type HandlerDecorator,
} from './decorators';
export { BAD_REQUEST_PAGE, PreparedPages, answerFromStore, groupHeaderList, isStoredPage, storedPage, type CachedPage } from './stored-page';
export { DEFAULT_MAX_BODY_BYTES, PageCache, PageMiss, type PageCacheOptions, type PageLookup } from './page-cache';
export {
  cacheMiddleware,
  cachePage,
  cachePageOptions,
  pageResponse,
  respondThroughPageCache,
  type CacheMiddlewareOptions,
  type CachePageOptions,
} from './middleware';
export { TEMPLATE_FRAGMENTS_ALIAS, cacheFragment, fragmentCache, type CacheFragmentOptions } from './fragments/cache-fragment';
