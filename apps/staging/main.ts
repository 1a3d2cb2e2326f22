import { join } from 'node:path';
import { runEnvironmentApp } from '@queue-lanes/stacks';

runEnvironmentApp({ environment: 'staging', workspaceRoot: join(__dirname, '..', '..') });
