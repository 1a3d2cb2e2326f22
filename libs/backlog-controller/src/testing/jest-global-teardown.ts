import type { RunningServer } from './servers';

export default async function globalTeardown(): Promise<void> {
  const servers = (globalThis as { backlogControllerServers?: RunningServer[] }).backlogControllerServers ?? [];
  await Promise.all(servers.map((server) => server.stop()));
}
