import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../openapi.ts';

/** GET /openapi.json: the OpenAPI 3.1 document of this server, built once. */
export function registerOpenApiRoute(app: FastifyInstance, deps: { issuer: string; version: string }): void {
  const document = openApiDocument(deps);
  app.get('/openapi.json', async () => document);
}
