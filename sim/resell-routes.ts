import type { SimState } from './state.js';
import type { SimRequest, SimResponse } from './types.js';

/** Cloud Management API (resell v2) projects and capabilities. */
export class ResellRoutes {
  constructor(private readonly state: SimState) {}

  listProjects(): SimResponse {
    return {
      status: 200,
      body: {
        projects: [...this.state.projects.keys()].map((id) =>
          this.projectBody(id),
        ),
      },
    };
  }

  getProject(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    if (!project) return { status: 404, body: { error: 'project_not_found' } };

    return { status: 200, body: { project: this.projectBody(project.id) } };
  }

  capabilities(): SimResponse {
    const { scenario } = this.state;

    return {
      status: 200,
      body: {
        capabilities: {
          licenses: [],
          regions: scenario.regions.map((region) => ({
            description: region.name,
            is_default: false,
            name: region.name,
            zones: region.zones.map((zone) => ({
              description: zone,
              enabled: true,
              is_default: false,
              is_private: false,
              name: zone,
            })),
          })),
          resources: scenario.resources.map((resource) => ({
            name: resource.name,
            preordered: false,
            quota_scope: resource.scope,
            quotable: true,
            unbillable: false,
          })),
          subnets: [],
          traffic: { granularities: [] },
        },
      },
    };
  }

  private projectBody(id: string) {
    const project = this.state.projects.get(id);

    return {
      id,
      name: project?.name,
      url: `https://${this.state.scenario.account}.selvpc.ru`,
      enabled: project?.enabled,
      custom_url: '',
      theme: { color: '', logo: '' },
    };
  }
}
