export {
  DEFAULT_AURORA_PORT,
  DEFAULT_REDIS_PORT,
  HTTPS_PORT,
  WorkerNetwork,
  workerNetworkProps,
  type DatastoreAccess,
  type HttpsEgress,
  type SecurityGroupRule,
  type WorkerNetworkProps,
} from './worker-network';
