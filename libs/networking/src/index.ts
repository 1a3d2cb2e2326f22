export {
  WorkerNetwork,
  workerNetworkProps,
  type DatastoreAccess,
  type HttpsEgress,
  type SecurityGroupRule,
  type WorkerNetworkProps,
} from './worker-network';
