import { render } from 'preact';

function App() {
  return <h1>Ferry</h1>;
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
