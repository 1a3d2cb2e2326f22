import { createServer, type Server } from 'node:http';

/*
 * A stand-in for the ECS container agent's task scale-in protection endpoint, answering
 * as its documentation says (Amazon ECS developer guide, "Amazon ECS task scale-in
 * protection endpoint"): `PUT /task-protection/v1/state` with `{"ProtectionEnabled": bool,
 * "ExpiresInMinutes"?: 1..2880}` (120 when left out) answers
 * `{"protection": {"ExpirationDate", "ProtectionEnabled", "TaskArn"}}`; a request it cannot
 * take answers `{"error": {"Arn", "Code", "Message"}}`; `GET` answers the state. Protection
 * lapses on its own at its expiry, as ECS's does.
 */

export interface ProtectionCall {
  readonly at: number;
  readonly enabled: boolean;
  readonly expiresInMinutes?: number;
}

export class EcsAgentDouble {
  readonly calls: ProtectionCall[] = [];
  private expiresAt = 0;

  private constructor(
    private readonly server: Server,
    readonly uri: string,
    readonly taskArn: string,
  ) {}

  static async start(taskArn = 'arn:aws:ecs:eu-west-2:111111111111:task/propertyfeed-staging/0123456789abcdef'): Promise<EcsAgentDouble> {
    const holder: { agent?: EcsAgentDouble } = {};
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const [status, answer] = holder.agent!.answer(request.method ?? '', request.url ?? '', body);
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('the agent double has no port');
    holder.agent = new EcsAgentDouble(server, `http://127.0.0.1:${address.port}/api/${'0'.repeat(32)}-1`, taskArn);
    return holder.agent;
  }

  /** Whether the task is protected now (a lapsed protection is not). */
  get protected(): boolean {
    return Date.now() < this.expiresAt;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private answer(method: string, url: string, body: string): [number, unknown] {
    if (!url.endsWith('/task-protection/v1/state')) return [404, this.error('NotFound', `no such path ${url}`)];
    if (method === 'GET') return [200, this.state()];
    if (method !== 'PUT') return [405, this.error('MethodNotAllowed', method)];
    let request: { ProtectionEnabled?: unknown; ExpiresInMinutes?: unknown };
    try {
      request = JSON.parse(body);
    } catch {
      return [400, this.error('InvalidParameterException', 'the request body is not JSON')];
    }
    if (typeof request.ProtectionEnabled !== 'boolean') {
      return [400, this.error('InvalidParameterException', 'ProtectionEnabled is required and must be a boolean')];
    }
    const minutes = request.ExpiresInMinutes ?? 120;
    if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 2880) {
      return [400, this.error('InvalidParameterException', 'ExpiresInMinutes must be an integer from 1 to 2880')];
    }
    this.calls.push({
      at: Date.now(),
      enabled: request.ProtectionEnabled,
      ...(request.ExpiresInMinutes !== undefined ? { expiresInMinutes: minutes } : {}),
    });
    this.expiresAt = request.ProtectionEnabled ? Date.now() + minutes * 60_000 : 0;
    return [200, this.state()];
  }

  private state() {
    return {
      protection: {
        ExpirationDate: this.protected ? new Date(this.expiresAt).toISOString() : null,
        ProtectionEnabled: this.protected,
        TaskArn: this.taskArn,
      },
    };
  }

  private error(code: string, message: string) {
    return { error: { Arn: this.taskArn, Code: code, Message: message } };
  }
}
