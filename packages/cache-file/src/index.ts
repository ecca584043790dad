export { FileCache, type FileCacheOptions, type FileCacheParams } from './file-cache';
