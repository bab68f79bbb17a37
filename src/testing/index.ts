/** The test kit: a whole service on a random port with clients ready (see docs/testing.md). */
export { createTestServer } from './create-test-server.js';
export type { TestClients, TestServer, TestServerOptions } from './create-test-server.js';
export { DEFAULT_TEST_USER, TEST_SERVICE_CLIENT, mergeConfig } from './test-config.js';
export type { TestUser } from './test-config.js';
