// Placeholder: implemented in the stores work (issue 7).
export {};
