import { loadEnvironment } from '@queue-lanes/config';
try { loadEnvironment('/tmp/r16/environments/staging.yaml', 'environments/staging.yaml'); console.log('ok'); } catch (e) { console.log((e as Error).message); }
