import { startMoto, startRedis, type RunningServer } from './servers';

/*
 * Starts one redis-server and one moto_server for the whole test run; the test
 * files find them through BC_TEST_REDIS_PORT and BC_TEST_MOTO_ENDPOINT, and share
 * them by using their own key prefixes, clusters and environments.
 */
export default async function globalSetup(): Promise<void> {
  const [redis, moto] = await Promise.all([startRedis(), startMoto()]);
  process.env.BC_TEST_REDIS_PORT = String(redis.port);
  process.env.BC_TEST_MOTO_ENDPOINT = moto.endpoint;
  (globalThis as { backlogControllerServers?: RunningServer[] }).backlogControllerServers = [redis, moto];
}
