import type { MotoTarget } from './rehearsal';

/** The moto server the rehearsal's tests point stacks at: one definition for every test that writes an override or a report. */
export const MOTO_TARGET: MotoTarget = {
  endpoint: 'http://127.0.0.1:4566',
  region: 'eu-west-2',
  accountId: '123456789012',
  bucket: 'pf-rehearsal',
};
