import type { SelectelHttp, TokenSource } from './http.js';
import {
  type Capabilities,
  CapabilitiesSchema,
  type Project,
  ProjectListSchema,
  ProjectResponseSchema,
} from './schemas.js';

/** Client of the Cloud Management API (resell v2): projects and capabilities. */
export class ResellClient {
  constructor(
    private readonly http: SelectelHttp,
    private readonly auth: TokenSource,
    readonly baseUrl: string,
  ) {}

  async listProjects(): Promise<Project[]> {
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'GET',
      path: '/projects',
      schema: ProjectListSchema,
      auth: this.auth,
    });

    return result.data.projects;
  }

  async getProject(projectId: string): Promise<Project> {
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'GET',
      path: `/projects/${encodeURIComponent(projectId)}`,
      schema: ProjectResponseSchema,
      auth: this.auth,
    });

    return result.data.project;
  }

  /** Reads the account's regions, zones and quotable resources. */
  async capabilities(): Promise<Capabilities> {
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'GET',
      path: '/capabilities',
      schema: CapabilitiesSchema,
      auth: this.auth,
    });

    return result.data.capabilities;
  }
}
