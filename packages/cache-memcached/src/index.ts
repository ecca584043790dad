export { MemcachedCache, DEFAULT_LOCATION, type MemcachedCacheOptions, type MemcachedCacheParams } from './memcached-cache';
export { MemcachedClient, type MemcachedClientOptions, type MemcachedItem, type StoreOptions } from './client';
export { KetamaRing, ketamaHash, type KetamaMember } from './ketama';
export { ValueFlags } from './value-flags';
export { PythonFlags, type DjangoClient } from './django-flags';
