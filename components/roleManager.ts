export const ROLE_MANAGER_BUNDLE = "components/roleManager/dist/index.js";
