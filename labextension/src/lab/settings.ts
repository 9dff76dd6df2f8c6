/** The plugin's settings (schema/plugin.json), read now and after every change. */

import { ISettingRegistry } from '@jupyterlab/settingregistry';

/** The settings the panel reads. */
export interface IPanelSettings {
  /** Where the MLflow UI serves the store; empty: run ids are shown as text. */
  mlflowUi: string;
}

/** Keep `target` up to date with the settings of `pluginId`; `changed` runs after each read. */
export async function followSettings(
  registry: ISettingRegistry,
  pluginId: string,
  target: IPanelSettings,
  changed: () => void
): Promise<void> {
  const loaded = await registry.load(pluginId);
  const read = () => {
    target.mlflowUi = String(loaded.get('mlflowUiUrl').composite ?? '');
    changed();
  };
  read();
  loaded.changed.connect(read);
}
