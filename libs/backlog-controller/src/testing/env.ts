/** Where the global setup's servers are (see jest-global-setup.ts). */
export function testServers(): { redisPort: number; motoEndpoint: string } {
  const redisPort = Number(process.env.BC_TEST_REDIS_PORT);
  const motoEndpoint = process.env.BC_TEST_MOTO_ENDPOINT;
  if (!redisPort || !motoEndpoint) {
    throw new Error('BC_TEST_REDIS_PORT / BC_TEST_MOTO_ENDPOINT unset: run through libs/backlog-controller/jest.config.js');
  }
  return { redisPort, motoEndpoint };
}
