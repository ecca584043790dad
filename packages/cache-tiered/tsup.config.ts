import { cachetteTsupConfig } from '@cachette/tooling-config/tsup';

export default cachetteTsupConfig();
