export { LocMemCache, type LocMemOptions } from './locmem-cache';
