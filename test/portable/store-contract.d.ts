export interface StoreContractOptions {
  createStore: () => unknown;
  locks?: boolean;
  minTtlSeconds?: number;
  name?: string;
  runtime?: string;
  timeoutMs?: number;
}
export interface ContractTest {
  name: string;
  fn: () => Promise<void>;
}
export interface ContractSummary {
  runtime: string;
  passed: number;
  failed: number;
  skipped: number;
  total: number;
  results: Array<{ name: string; ok: boolean; skipped: boolean; error: string | null; ms: number }>;
}
export declare function storeContract(options: StoreContractOptions): ContractTest[];
export declare function runStoreContract(options: StoreContractOptions): Promise<ContractSummary>;
