// No CRM: the softphone on its own (?crm=none).
export function createBridge() {
  return { name: 'none' };
}
