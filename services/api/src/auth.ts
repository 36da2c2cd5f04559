export { requireAdmin } from '@cdp/http';
