/*
 * The Lambda entry (bundled by bundle.ts): `handler` runs one tick per
 * invocation, from the one-minute schedule or from the application's wake-up
 * call `{ "wake": ["image"] }`. CONTROLLER_CONFIG is validated when the module
 * loads, i.e. at cold start.
 */
import { createHandler } from './controller';

export const handler = createHandler();
