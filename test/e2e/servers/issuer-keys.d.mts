import type { JWTVerifyGetKey } from "jose";
export declare function issuerKeys(): (issuer: string) => Promise<JWTVerifyGetKey>;
