export type ClientKeyAlg = "ES256" | "RS256" | "PS256" | "EdDSA";

export interface ClientKey {
  alg: ClientKeyAlg;
  kid: string;
  publicJwk: JsonWebKey & { kid: string; alg: string };
  privateJwk: JsonWebKey & { kid: string; alg: string };
  privateKeyPem: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export declare function generateClientKey(alg: ClientKeyAlg, kid?: string): Promise<ClientKey>;
export declare function privateKeyJwtClient(clientId: string, key: ClientKey): Record<string, unknown>;
export declare function secretClient(clientId: string, clientSecret: string, method?: "client_secret_basic" | "client_secret_post"): Record<string, unknown>;
export declare function randomSecret(): string;
