import { remoteStateReferences } from './cross-stack';
import type { StackJson } from '../rehearsal';

describe('cross-stack references', () => {
  it('finds every remote-state output a stack reads', () => {
    const consumer: StackJson = {
      resource: {
        aws_ecs_service: {
          s: {
            network_configuration: {
              security_groups: ['${data.terraform_remote_state.net.outputs.workers_sg}'],
              subnets: '${data.terraform_remote_state.net.outputs.subnets}',
            },
            cluster: '${data.terraform_remote_state.net.outputs.workers_sg}',
          },
        },
      },
    };
    expect(remoteStateReferences(consumer)).toEqual([
      { data: 'net', output: 'subnets' },
      { data: 'net', output: 'workers_sg' },
    ]);
  });
});
