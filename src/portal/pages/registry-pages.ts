import type { App } from '../../app.js'

export default async function registryPages (app: App): Promise<void> {
  void app
}
