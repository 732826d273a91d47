export async function render() { return []; }
