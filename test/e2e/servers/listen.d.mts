import type { Server } from "node:http";
export function listen(server: Server, port: number, host: string): Promise<number>;
export function closer(server: Server): () => Promise<void>;
