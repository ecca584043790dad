import { setTimeout as delay } from 'node:timers/promises';
import { uncontrolledServer, type ServerAddress } from './server.js';
import type { ControllableServer, Endpoint, ServerKind } from './types.js';

export interface ContainerSpec {
  image: string;
  port: number;
  environment?: Record<string, string>;
  command?: string[];
  address(endpoint: Endpoint): ServerAddress;
  isReady(endpoint: Endpoint): Promise<boolean>;
}

const CONTAINER_READY_TIMEOUT_MS = 120_000;

/**
 * The last resort when neither an env URL nor a local binary exists. testcontainers is loaded
 * only here, so machines with local binaries never pay for it; its reaper removes the container
 * if this process dies.
 */
export async function startContainer(kind: ServerKind, spec: ContainerSpec): Promise<ControllableServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  let container = new GenericContainer(spec.image).withExposedPorts(spec.port).withWaitStrategy(Wait.forListeningPorts());
  if (spec.environment) container = container.withEnvironment(spec.environment);
  if (spec.command) container = container.withCommand(spec.command);
  const started = await container.start();
  const endpoint = { host: started.getHost(), port: started.getMappedPort(spec.port) };
  const stop = async (): Promise<void> => {
    await started.stop();
  };
  // Listening is not answering: databases open their port before they accept logins.
  const deadline = Date.now() + CONTAINER_READY_TIMEOUT_MS;
  while (!(await spec.isReady(endpoint))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${kind} container ${spec.image} did not answer within ${CONTAINER_READY_TIMEOUT_MS / 1000} s`);
    }
    await delay(200);
  }
  return uncontrolledServer(kind, 'container', spec.address(endpoint), stop);
}
