import { createServer, type Server } from 'node:http';

/*
 * A stand-in CloudWatch endpoint speaking the JSON 1.0 protocol the SDK's
 * default client uses (moto here only speaks CloudWatch's Query protocol, see
 * aws.ts). It records every call and answers PutMetricData and GetMetricData
 * (with no history); set AWS_ENDPOINT_URL_CLOUDWATCH to its endpoint.
 */

export interface CloudWatchCall {
  /** The operation, e.g. "PutMetricData". */
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

export interface CloudWatchStub {
  readonly endpoint: string;
  readonly calls: CloudWatchCall[];
  close(): Promise<void>;
}

export async function startCloudWatchStub(): Promise<CloudWatchStub> {
  const calls: CloudWatchCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      calls.push({ operation, body });
      const answers: Record<string, unknown> = { PutMetricData: {}, GetMetricData: { MetricDataResults: [] } };
      const known = operation in answers;
      response.writeHead(known ? 200 : 400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(known ? answers[operation] : { __type: 'UnknownOperationException' }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
