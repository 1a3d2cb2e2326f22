import { join } from 'node:path';
import { runEnvironmentApp } from '@queue-lanes/stacks';

runEnvironmentApp({ environment: 'production', workspaceRoot: join(__dirname, '..', '..') });
