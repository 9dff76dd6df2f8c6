import './base.css';
import './layout.css';
import './runs.css';
import './live.css';
