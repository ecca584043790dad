export { loadPickle } from './reader';
export { dumpPickle, type PickleProtocol } from './writer';
export { pickleSerializer } from './pickle-serializer';
