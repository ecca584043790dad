import { requireSource, type StartNeeds } from './availability.js';
import { startContainer, type ContainerSpec } from './containers.js';
import type { ControllableServer, ServerKind } from './types.js';

/** How to have one kind of server from each source. */
export interface ServerRecipe<Local extends ControllableServer> {
  fromEnv(): ControllableServer;
  container: ContainerSpec;
  startLocal(): Promise<Local>;
}

/** Starts (or, for env servers, names) a server from the first source that meets `needs`. */
export async function startFromBestSource<Local extends ControllableServer>(
  kind: ServerKind,
  needs: StartNeeds,
  recipe: ServerRecipe<Local>,
): Promise<Local | ControllableServer> {
  switch (await requireSource(kind, needs)) {
    case 'env':
      return recipe.fromEnv();
    case 'container':
      return startContainer(kind, recipe.container);
    case 'local':
      return recipe.startLocal();
  }
}
