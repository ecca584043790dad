import { request } from 'node:http';

const DOCKER_PING_TIMEOUT_MS = 1_500;

type PingTarget = { socketPath: string } | { host: string; port: number };

/** Where the Docker API listens, as testcontainers would find it by default. */
function dockerEndpoint(): PingTarget | undefined {
  const dockerHost = process.env.DOCKER_HOST?.trim();
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const match = /^tcp:\/\/([^:/]+):(\d+)/.exec(dockerHost);
  return match?.[1] && match[2] ? { host: match[1], port: Number(match[2]) } : undefined;
}

function ping(target: PingTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: DOCKER_PING_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

let dockerAnswer: Promise<boolean> | undefined;

/** Whether a Docker engine answers its API; asked once per process with a short timeout. */
export function dockerAnswers(): Promise<boolean> {
  if (!dockerAnswer) {
    const endpoint = dockerEndpoint();
    dockerAnswer = endpoint ? ping(endpoint) : Promise.resolve(false);
  }
  return dockerAnswer;
}
