#!/usr/bin/env node
// Converts the SFDX source in force-app/ to Metadata API format with Salesforce's own
// library (@salesforce/source-deploy-retrieve), offline: the same conversion
// `sf project deploy` does before sending a package. Used by the test suite to validate the
// package without an org.
//
// Usage: node sfdc-package/scripts/convert.js <output-directory>
// Prints {"packagePath": ..., "components": [{"type", "fullName"}, ...]} as JSON; exits 1 on error.
'use strict';

const fs = require('fs');
const path = require('path');
const { ComponentSet, MetadataConverter } = require('@salesforce/source-deploy-retrieve');

async function main() {
  const output = process.argv[2];
  if (!output) {
    throw new Error('usage: convert.js <output-directory>');
  }
  const root = path.join(__dirname, '..');
  const project = JSON.parse(fs.readFileSync(path.join(root, 'sfdx-project.json'), 'utf8'));
  const components = ComponentSet.fromSource(path.join(root, 'force-app'));
  components.sourceApiVersion = project.sourceApiVersion;
  components.apiVersion = project.sourceApiVersion;
  const listed = [];
  for (const component of components.getSourceComponents()) {
    listed.push({ type: component.type.name, fullName: component.fullName });
    for (const child of component.getChildren()) {
      listed.push({ type: child.type.name, fullName: child.fullName });
    }
  }
  const result = await new MetadataConverter().convert(components, 'metadata', {
    type: 'directory',
    outputDirectory: path.resolve(output),
    packageName: 'cti-connector',
    genUniqueDir: false,
  });
  process.stdout.write(JSON.stringify({ packagePath: result.packagePath, components: listed }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
