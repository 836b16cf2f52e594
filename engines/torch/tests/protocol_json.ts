// Prints the protocol's presets and config JSON Schema for the Python tests (protocol_files.py).
import { configJsonSchema } from '../../../protocol/configSchemaJson';
import { presets } from '../../../protocol/presets';

process.stdout.write(JSON.stringify({ schema: configJsonSchema(), presets }));
